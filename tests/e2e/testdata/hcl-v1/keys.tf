# Your SSH public key, uploaded to every cloud that runs at least one node. mck and Ansible log in
# with the matching private key (ssh-agent or ~/.ssh), so it never leaves your machine.

variable "ssh_public_key_file" {
  description = "Path of the OpenSSH public key installed on every VM (~ is expanded)."
  type        = string
  default     = "~/.ssh/id_ed25519.pub"
  nullable    = false

  validation {
    condition     = can(regex("^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+", file(pathexpand(var.ssh_public_key_file))))
    error_message = "ssh_public_key_file must name a readable OpenSSH public key (the .pub file, not the private key). Create one with: ssh-keygen -t ed25519"
  }
}

locals {
  # Clouds reject a trailing newline in key material; the file always has one.
  ssh_public_key = trimspace(file(pathexpand(var.ssh_public_key_file)))
}

resource "digitalocean_ssh_key" "mck" {
  count = var.digitalocean.nodes > 0 ? 1 : 0

  name       = var.cluster_name
  public_key = local.ssh_public_key
}

resource "linode_sshkey" "mck" {
  count = var.linode.nodes > 0 ? 1 : 0

  label   = var.cluster_name
  ssh_key = local.ssh_public_key
}

resource "aws_key_pair" "mck" {
  count = var.aws.nodes > 0 ? 1 : 0

  key_name   = var.cluster_name
  public_key = local.ssh_public_key
}
