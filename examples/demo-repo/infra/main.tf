# Demo infrastructure (deliberately insecure: a scanner fixture).
provider "aws" {
  region = "eu-west-1"
}

resource "aws_s3_bucket" "data" {
  bucket = "demo-customer-data"
}

resource "aws_db_instance" "main" {
  identifier          = "demo-db"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "demo"
  manage_master_user_password = true
  storage_encrypted   = false
  skip_final_snapshot = true
}
