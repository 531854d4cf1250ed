# The one place to say how big the cluster is: how many VMs on which cloud, of which size, where.
# Override any attribute in a *.tfvars file, e.g.
#   digitalocean = { nodes = 3 }
#   aws          = { nodes = 1, region = "us-east-1" }
# Every VM runs Debian 12 and becomes one microk8s node named after the VM.

variable "cluster_name" {
  description = "Name of the cluster: prefix of every VM name (<cluster_name>-<cloud>-<n>), which is also the node's hostname and Kubernetes node name."
  type        = string
  default     = "mck-k8s"
  nullable    = false

  validation {
    # A DNS label, short enough that "<name>-linode-<n>" stays a valid hostname and Linode label.
    condition     = can(regex("^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", var.cluster_name))
    error_message = "cluster_name must be a DNS label of at most 40 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-' (e.g. \"mck-k8s\")."
  }
}

variable "encryption" {
  description = "How traffic between nodes is encrypted: \"mesh\" (a WireGuard mesh under the cluster; works across clouds and through AWS's 1:1 NAT), \"calico-wireguard\" (Calico's own WireGuard; no node may be behind NAT) or \"none\" (all nodes on one provider). Fixed for the cluster's life: nodes pin their addresses when they join."
  type        = string
  default     = "mesh"
  nullable    = false

  validation {
    condition     = contains(["mesh", "calico-wireguard", "none"], var.encryption)
    error_message = "encryption must be \"mesh\", \"calico-wireguard\" or \"none\"."
  }
}

variable "public_api" {
  description = "Open the Kubernetes API (16443/tcp) to the internet. Off, it answers on the nodes and over the mesh only; SSH and WireGuard are always open."
  type        = bool
  default     = false
  nullable    = false
}

variable "addons" {
  description = "microk8s core addons the cluster runs, as `microk8s enable` takes them: \"name\" or \"name:args\" (e.g. \"metallb:10.64.140.43-10.64.140.49\"). Enabled through one node after the joins; one removed from the list is disabled (one that holds data, like hostpath-storage, only after asking, or with --yes). Names are checked against the pinned microk8s channel's core addons."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for a in var.addons : can(regex("^(core/)?[a-z0-9][a-z0-9-]*(:.*)?$", a))])
    error_message = "Each addon is \"name\" or \"name:args\" as `microk8s enable` takes it, e.g. \"dns\" or \"metallb:10.64.140.43-10.64.140.49\"."
  }
}

variable "digitalocean" {
  description = "DigitalOcean droplets: nodes (count, 0 = none), size slug, region slug, image slug."
  type = object({
    nodes  = optional(number, 2)
    size   = optional(string, "s-2vcpu-4gb")
    region = optional(string, "fra1")
    image  = optional(string, "debian-12-x64")
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.digitalocean.nodes >= 0 && floor(var.digitalocean.nodes) == var.digitalocean.nodes
    error_message = "digitalocean.nodes must be a whole number >= 0 (0 means no droplets)."
  }
}

variable "linode" {
  description = "Linode instances: nodes (count, 0 = none), type, region, image."
  type = object({
    nodes  = optional(number, 1)
    type   = optional(string, "g6-standard-2")
    region = optional(string, "eu-central")
    image  = optional(string, "linode/debian12")
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.linode.nodes >= 0 && floor(var.linode.nodes) == var.linode.nodes
    error_message = "linode.nodes must be a whole number >= 0 (0 means no Linode instances)."
  }
}

variable "aws" {
  description = "AWS EC2 instances: nodes (count, 0 = none), instance type, region, availability zone (default: the region's \"a\" zone), AMI name pattern of Debian's official images, root disk size in GiB (the AMI's own 8 GiB is too small for microk8s)."
  type = object({
    nodes   = optional(number, 0)
    type    = optional(string, "t3.medium")
    region  = optional(string, "eu-central-1")
    zone    = optional(string)
    image   = optional(string, "debian-12-amd64-*")
    disk_gb = optional(number, 30)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.aws.nodes >= 0 && floor(var.aws.nodes) == var.aws.nodes
    error_message = "aws.nodes must be a whole number >= 0 (0 means no EC2 instances)."
  }

  validation {
    # EC2 cannot make the root volume smaller than the AMI's snapshot (8 GiB), nor shrink it later.
    condition     = var.aws.disk_gb >= 8 && floor(var.aws.disk_gb) == var.aws.disk_gb
    error_message = "aws.disk_gb must be a whole number of GiB, at least 8 (the Debian AMI's own size); 30 or more is recommended."
  }
}

resource "digitalocean_droplet" "node" {
  count = var.digitalocean.nodes

  name     = "${var.cluster_name}-do-${count.index}"
  image    = var.digitalocean.image
  region   = var.digitalocean.region
  size     = var.digitalocean.size
  ssh_keys = [local.do_ssh_key_fingerprint]
  tags     = [var.cluster_name]

  lifecycle {
    # Keys are given to a droplet only when it is created; a change would replace (wipe) it.
    # A rotated key reaches running droplets through the common role (authorized_keys).
    ignore_changes = [ssh_keys]
  }
}

resource "linode_instance" "node" {
  count = var.linode.nodes

  label           = "${var.cluster_name}-linode-${count.index}"
  image           = var.linode.image
  region          = var.linode.region
  type            = var.linode.type
  authorized_keys = [one(linode_sshkey.mck[*].ssh_key)]
  # A private address in the region: nodes of one cloud can talk without leaving it.
  private_ip = true
  tags       = [var.cluster_name]

  lifecycle {
    # As for droplets: a change would replace the instance; the common role rotates the key.
    ignore_changes = [authorized_keys]
  }
}
