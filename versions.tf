# Which OpenTofu/Terraform and which provider releases this project is written against.
# Minor-version pins (~>) take bug fixes but never a major release that renames attributes.
terraform {
  # `removed` blocks (aws.tf lets go of the VPC's default security group) need 1.7, in OpenTofu
  # and in Terraform alike.
  required_version = ">= 1.7"

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
