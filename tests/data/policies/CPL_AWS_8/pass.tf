resource "aws_redshift_cluster" "ok" {
  cluster_identifier = "r"
  node_type          = "ra3.xlplus"
  encrypted          = true
  kms_key_id         = "arn:aws:kms:eu-west-1:111122223333:key/abc"
}
