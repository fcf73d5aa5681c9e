resource "aws_redshift_cluster" "plain" {
  cluster_identifier = "r"
  node_type          = "ra3.xlplus"
  encrypted          = true
}
