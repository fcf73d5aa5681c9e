resource "aws_efs_file_system" "default_key" {
  encrypted = true
}
