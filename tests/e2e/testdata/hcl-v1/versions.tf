# Which OpenTofu/Terraform and which provider releases this project is written against.
# Minor-version pins (~>) take bug fixes but never a major release that renames attributes.
terraform {
  # 1.6 is the first OpenTofu release; optional() object attributes with defaults need >= 1.3.
  required_version = ">= 1.6"

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
