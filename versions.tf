# Which OpenTofu/Terraform and which provider releases this project is written against.
# Minor-version pins (~>) take bug fixes but never a major release that renames attributes.
terraform {
  # aws.tf lets go of the VPC's default security group with a `removed` block whose lifecycle
  # says destroy = false: Terraform has it since 1.7 (and destroys without it), OpenTofu
  # accepts the lifecycle block there since 1.10.
  required_version = ">= 1.10"

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
