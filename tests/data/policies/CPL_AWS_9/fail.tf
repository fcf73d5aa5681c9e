resource "aws_elasticache_replication_group" "default_key" {
  replication_group_id       = "r"
  description                = "d"
  at_rest_encryption_enabled = true
}
