# The HCL contract's shapes (versions, providers, resources, data source) for the stand-in
# providers' own test: tests/standins/providers/test_providers.py copies it into a temp dir.
terraform {
  required_providers {
    digitalocean = {
      source  = "digitalocean/digitalocean"
      version = "~> 2.40"
    }
    linode = {
      source  = "linode/linode"
      version = "~> 2.29"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
}

variable "do_token" {
  type      = string
  sensitive = true
}
variable "linode_token" {
  type      = string
  sensitive = true
}
variable "aws_access" {
  type      = string
  sensitive = true
}
variable "aws_secret" {
  type      = string
  sensitive = true
}
variable "ssh_public_key_file" {
  type = string
}
variable "digitalocean" {
  type = object({
    nodes = optional(number, 1)
    size  = optional(string, "s-2vcpu-4gb")
    image = optional(string, "debian-12-x64")
  })
  default = {}
}
variable "linode" {
  type = object({
    nodes = optional(number, 1)
    type  = optional(string, "g6-standard-2")
  })
  default = {}
}
variable "aws" {
  type = object({
    nodes         = optional(number, 1)
    region        = optional(string, "us-east-1")
    instance_type = optional(string, "t3.medium")
  })
  default = {}
}

locals {
  public_key = trimspace(file(pathexpand(var.ssh_public_key_file)))
}

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
  default_tags {
    tags = {
      Project = "mck"
    }
  }
}

resource "digitalocean_ssh_key" "user" {
  name       = "mck-k8s"
  public_key = local.public_key
}

resource "digitalocean_droplet" "node" {
  count    = var.digitalocean.nodes
  name     = "mck-k8s-do-${count.index}"
  image    = var.digitalocean.image
  region   = "fra1"
  size     = var.digitalocean.size
  ssh_keys = [digitalocean_ssh_key.user.fingerprint]
  tags     = ["mck"]
}

resource "linode_sshkey" "user" {
  label   = "mck-k8s"
  ssh_key = local.public_key
}

resource "linode_instance" "node" {
  count           = var.linode.nodes
  label           = "mck-k8s-linode-${count.index}"
  image           = "linode/debian12"
  region          = "eu-central"
  type            = var.linode.type
  authorized_keys = [linode_sshkey.user.ssh_key]
  private_ip      = true
  tags            = ["mck"]
}

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_key_pair" "user" {
  key_name   = "mck-k8s"
  public_key = local.public_key
}

resource "aws_default_vpc" "default" {}

resource "aws_default_subnet" "a" {
  availability_zone = "${var.aws.region}a"
}

resource "aws_default_security_group" "default" {
  vpc_id = aws_default_vpc.default.id
  ingress {
    description = "ssh"
    protocol    = "tcp"
    from_port   = 22
    to_port     = 22
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    description = "wireguard"
    protocol    = "udp"
    from_port   = 51820
    to_port     = 51820
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    description = "everything"
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "node" {
  count                       = var.aws.nodes
  ami                         = data.aws_ami.debian.id
  instance_type               = var.aws.instance_type
  subnet_id                   = aws_default_subnet.a.id
  key_name                    = aws_key_pair.user.key_name
  vpc_security_group_ids      = [aws_default_security_group.default.id]
  associate_public_ip_address = true
  tags = {
    Name = "mck-k8s-aws-${count.index}"
  }
}
