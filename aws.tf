# AWS: instances in the region's default VPC and subnet, reachable on a public IPv4 address that
# AWS maps 1:1 (NAT) to the instance's private address. Nothing here is created when aws.nodes = 0.

locals {
  aws_enabled = var.aws.nodes > 0
  aws_zone    = coalesce(var.aws.zone, "${var.aws.region}a")
}

# Debian's official Debian 12 images (the Debian cloud team's account), newest release first.
data "aws_ami" "debian" {
  count = local.aws_enabled ? 1 : 0

  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = [var.aws.image]
  }
}

# Adopts the VPC every account has per region; destroying only forgets it.
resource "aws_default_vpc" "default" {
  count = local.aws_enabled ? 1 : 0
}

resource "aws_default_subnet" "default" {
  count = local.aws_enabled ? 1 : 0

  availability_zone = local.aws_zone
}

# mck's own security group, named after the cluster: created and destroyed with it. The VPC's
# default group is left alone: adopting it (aws_default_security_group) would delete every rule
# the account had on it and leave mck's rules open there after a destroy.
resource "aws_security_group" "mck" {
  count = local.aws_enabled ? 1 : 0

  name        = var.cluster_name
  description = "mck cluster nodes: SSH, WireGuard, and everything between the nodes"
  vpc_id      = aws_default_vpc.default[0].id

  ingress {
    description = "SSH: mck and Ansible configure the node"
    protocol    = "tcp"
    from_port   = 22
    to_port     = 22
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    description = "WireGuard: the encrypted mesh between nodes on every cloud"
    protocol    = "udp"
    from_port   = 51820
    to_port     = 51820
    cidr_blocks = ["0.0.0.0/0"]
  }

  dynamic "ingress" {
    for_each = var.public_api ? [16443] : []
    content {
      description = "Kubernetes API, open to the internet because public_api = true"
      protocol    = "tcp"
      from_port   = ingress.value
      to_port     = ingress.value
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  ingress {
    description = "Everything between members of this group (AWS nodes talking privately)"
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    self        = true
  }

  egress {
    description = "Everything out: packages, snaps, the other clouds"
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = {
    Name          = var.cluster_name
    "mck-cluster" = var.cluster_name
  }

  lifecycle {
    precondition {
      # EC2 refuses group names in its own id format.
      condition     = !startswith(var.cluster_name, "sg-")
      error_message = "cluster_name must not start with \"sg-\" when AWS nodes are used: EC2 refuses security group names that look like group ids."
    }
  }
}

# Clusters made before mck had its own group adopted the VPC's default group. Let go of it
# without touching it (a destroy would be the same: AWS keeps a default group); its rules are
# the ones mck set, and README's "Before your first run on real clouds" says how to remove them.
removed {
  from = aws_default_security_group.default

  lifecycle {
    destroy = false
  }
}

resource "aws_instance" "node" {
  count = var.aws.nodes

  ami                         = data.aws_ami.debian[0].id
  instance_type               = var.aws.type
  subnet_id                   = aws_default_subnet.default[0].id
  key_name                    = aws_key_pair.mck[0].key_name
  vpc_security_group_ids      = [aws_security_group.mck[0].id]
  associate_public_ip_address = true

  # Debian's AMI comes with 8 GiB, which images and microk8s' snaps fill up (the kubelet evicts
  # pods below 1 GiB free). Growing it later is done in place, without replacing the node.
  root_block_device {
    volume_size = var.aws.disk_gb
  }

  tags = {
    Name          = "${var.cluster_name}-aws-${count.index}"
    "mck-cluster" = var.cluster_name
  }

  lifecycle {
    # Both would replace (wipe) the node. most_recent picks up every new Debian point release;
    # key_name matters only when the VM is created: a rotated key reaches running nodes
    # through the common role (authorized_keys). New nodes get the newest image and key.
    ignore_changes = [ami, key_name]
  }
}
