# Your SSH public key, uploaded to every cloud that runs at least one node. mck and Ansible log in
# with the matching private key (ssh-agent or ~/.ssh), so it never leaves your machine.
# Changing the key never replaces a VM (see the lifecycle blocks in instances.tf and aws.tf):
# new VMs get the new key from the cloud, running ones from the common role.

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

# DigitalOcean refuses a key that the account already has, under any name (422 "SSH Key is
# already in use on your account"): one uploaded by hand, or by another mck cluster. So mck
# lists the account's keys and uses such a key as it is, and uploads the key (named after the
# cluster) only when the account does not have it. mck never deletes a key it did not upload.
data "digitalocean_ssh_keys" "account" {
  count = var.digitalocean.nodes > 0 ? 1 : 0
}

locals {
  # The key itself, without the comment: the same key uploaded with another comment is the same.
  ssh_key_blob = split(" ", local.ssh_public_key)[1]
  # This key in the account under another name than the one mck gives it: not this cluster's.
  do_foreign_keys = [
    for key in try(data.digitalocean_ssh_keys.account[0].ssh_keys, []) : key
    if try(split(" ", trimspace(key.public_key))[1], "") == local.ssh_key_blob && key.name != var.cluster_name
  ]
  do_ssh_key_fingerprint = (
    length(local.do_foreign_keys) > 0
    ? local.do_foreign_keys[0].fingerprint
    : one(digitalocean_ssh_key.mck[*].fingerprint)
  )
}

resource "digitalocean_ssh_key" "mck" {
  count = var.digitalocean.nodes > 0 && length(local.do_foreign_keys) == 0 ? 1 : 0

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
