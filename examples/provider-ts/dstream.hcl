# Runs the example TypeScript provider (built by `bun examples/provider-ts/build.ts`) into the console.
task "words" {
  input {
    provider_path = "./dist/words-provider"
    config {
      words  = ["hello", "from", "a", "typescript", "provider"]
      repeat = 2
    }
  }

  output {
    provider = "console"
    config { outputFormat = "simple" }
  }
}
