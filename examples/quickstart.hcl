# DStream's familiar first pipeline: a counter emits 5 messages, 1 s apart; the console prints them.
task "my-pipeline" {
  type = "providers"

  input {
    provider = "counter"
    config {
      interval = 1000 # milliseconds between messages
      maxCount = 5    # stop after 5 messages (0 = forever)
    }
  }

  output {
    provider = "console"
    config {
      outputFormat = "simple"
    }
  }
}
