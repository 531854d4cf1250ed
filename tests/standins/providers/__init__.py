"""Terraform providers standing in for digitalocean/digitalocean, linode/linode and hashicorp/aws.

Written with the PyPI `tf` framework (plugin protocol 6); they keep the real providers' schemas
(the subset mck's HCL uses) and create VMs through the lab's fake cloud API (`MCK_LAB_API`).
`install.install()` puts them into a filesystem mirror terraform/tofu can `init` from offline.
"""
