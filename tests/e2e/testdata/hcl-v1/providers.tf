# Provider credentials. They come only from the environment (TF_VAR_<name>), never from a file
# in this directory, so nothing secret can be committed by accident. mck checks that every one
# is exported before it runs anything.

provider "digitalocean" {
  token = var.do_token
}

provider "linode" {
  token = var.linode_token
}

provider "aws" {
  region     = var.aws.region
  access_key = var.aws_access
  secret_key = var.aws_secret
}

variable "do_token" {
  description = "DigitalOcean personal access token with read and write scope. Export it as TF_VAR_do_token."
  type        = string
  sensitive   = true
}

variable "linode_token" {
  description = "Linode (Akamai) personal access token with Linodes read/write. Export it as TF_VAR_linode_token."
  type        = string
  sensitive   = true
}

variable "aws_access" {
  description = "AWS access key id of an IAM user allowed to manage EC2. Export it as TF_VAR_aws_access."
  type        = string
  sensitive   = true
}

variable "aws_secret" {
  description = "AWS secret access key belonging to aws_access. Export it as TF_VAR_aws_secret."
  type        = string
  sensitive   = true
}
