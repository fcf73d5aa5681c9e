resource "aws_elasticache_replication_group" "ok" {
  replication_group_id       = "r"
  description                = "d"
  at_rest_encryption_enabled = true
  kms_key_id                 = "arn:aws:kms:eu-west-1:111122223333:key/abc"
}
