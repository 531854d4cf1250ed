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

# The default group of the VPC, with exactly these rules (any other rule on it is removed).
resource "aws_default_security_group" "default" {
  count = local.aws_enabled ? 1 : 0

  vpc_id = aws_default_vpc.default[0].id

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
}

resource "aws_instance" "node" {
  count = var.aws.nodes

  ami                         = data.aws_ami.debian[0].id
  instance_type               = var.aws.type
  subnet_id                   = aws_default_subnet.default[0].id
  key_name                    = aws_key_pair.mck[0].key_name
  vpc_security_group_ids      = [aws_default_security_group.default[0].id]
  associate_public_ip_address = true

  tags = {
    Name          = "${var.cluster_name}-aws-${count.index}"
    "mck-cluster" = var.cluster_name
  }

  lifecycle {
    # most_recent picks up every new Debian point release; without this each one would
    # replace (wipe) every AWS node on the next apply. New nodes still get the newest image.
    ignore_changes = [ami]
  }
}
