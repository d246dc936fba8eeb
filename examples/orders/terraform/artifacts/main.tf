# Reads the manifests hatch-lambda wrote beside its zips and returns, by artifact name, what the
# deployment needs: the zip's path, its CodeSha256 and the runtime, architecture and handler it
# was built for. No provider: `terraform console` can evaluate it anywhere.

variable "directory" {
  description = "The folder hatch-lambda writes its zips and manifests to (dist-lambda/)."
  type        = string
}

locals {
  # Other JSON files may sit in the folder (a deployment record, for one): a manifest of a zip
  # is one with a "hatch-lambda" version and an "archive".
  parsed = [
    for f in sort(fileset(var.directory, "*.json")) : jsondecode(file("${var.directory}/${f}"))
  ]
  manifests = [
    for m in local.parsed : m
    if try(m["hatch-lambda"], null) != null && try(m.archive.file, null) != null
  ]

  # A project without an `artifacts` table has one artifact, whose name is null.
  by_name = {
    for m in local.manifests : coalesce(m.name, "main") => {
      kind         = m.kind
      file         = "${var.directory}/${m.archive.file}"
      sha256       = m.archive.sha256
      code_sha256  = m.archive["code-sha256"]
      runtime      = m.runtime
      runtimes     = m.runtimes
      architecture = m.architecture
      handler      = m.handler
      layers       = m.layers
    }...
  }
}

output "functions" {
  description = "Function artifacts by name."
  value       = { for name, all in local.by_name : name => all[0] if all[0].kind == "function" }

  precondition {
    condition     = alltrue([for all in values(local.by_name) : length(all) == 1])
    error_message = "An artifact has several zips in ${var.directory} (older versions?): build with `hatch build -t lambda --clean` so that only the current ones remain."
  }
}

output "layers" {
  description = "Layer artifacts by name."
  value       = { for name, all in local.by_name : name => all[0] if all[0].kind == "layer" }
}
