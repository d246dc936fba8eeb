# The example's functions and layer, from what `hatch build -t lambda --clean` wrote to
# ../dist-lambda: every function and layer artifact of the project, each with the zip, CodeSha256,
# runtime, architecture and handler its manifest records. Build first, then `terraform apply`.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "prefix" {
  description = "Function and layer names are PREFIX-ARTIFACT (orders-api, orders-deps), as in [tool.hatch.publish.lambda]."
  type        = string
  default     = "orders"
}

provider "aws" {
  region = var.region
}

module "artifacts" {
  source = "./artifacts"
  # Relative, so that the `filename` Terraform records is the same in every checkout.
  directory = "${path.module}/../dist-lambda"
}

resource "aws_lambda_layer_version" "this" {
  for_each = module.artifacts.layers

  layer_name               = "${var.prefix}-${each.key}"
  filename                 = each.value.file
  source_code_hash         = each.value.code_sha256
  compatible_runtimes      = each.value.runtimes
  compatible_architectures = [each.value.architecture]
}

resource "aws_iam_role" "function" {
  name = "${var.prefix}-function"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "this" {
  for_each = module.artifacts.functions

  function_name    = "${var.prefix}-${each.key}"
  role             = aws_iam_role.function.arn
  filename         = each.value.file
  source_code_hash = each.value.code_sha256
  runtime          = each.value.runtime
  architectures    = [each.value.architecture]
  handler          = each.value.handler
  # The layers the function was built against, by artifact name, in the order the manifest gives.
  layers      = [for name in each.value.layers : aws_lambda_layer_version.this[name].arn]
  timeout     = 10
  memory_size = 256
}

output "functions" {
  value = { for name, f in aws_lambda_function.this : name => f.arn }
}

output "code_sha256" {
  description = "What each function's CodeSha256 will be: the manifest's code-sha256."
  value       = { for name, f in module.artifacts.functions : name => f.code_sha256 }
}
