# mck's own record of the cluster, kept in the state beside the VMs (and so in your backend):
# the cluster name and encryption the cluster was built with, each node's WireGuard mesh address
# and the SSH host keys each VM showed when mck first configured it. Every operator and CI runner
# sharing the state reads the same record: a fresh checkout converges the running cluster with no
# change, and checks each VM's host key instead of trusting its first answer.
#
# mck writes it (JSON) after configuring new nodes, by replacing this one resource with
# `-target`, `-replace` and `-var mck_facts=…`; every other plan leaves it alone (ignore_changes),
# so a `tofu plan` by hand shows no change here. Do not set the variable yourself.

variable "mck_facts" {
  description = "Written by mck only: the cluster's record (JSON). Leave unset."
  type        = string
  default     = ""
  nullable    = false
}

resource "terraform_data" "mck_facts" {
  input = var.mck_facts

  lifecycle {
    ignore_changes = [input]
  }
}
