resource "aws_db_instance" "short" {
  backup_retention_period = 3
}
resource "aws_rds_cluster" "unset" {
  engine = "aurora-postgresql"
}
