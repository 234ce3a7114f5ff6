// A config for the commands that take one task: one task needs no env var, the other three.

/** Task "local" needs nothing; task "remote" needs TAG, PW and OUT. */
export const twoTasks = `task "local" {
  input {
    provider = "counter"
    config {
      maxCount = 2
      interval = 0
    }
  }
  output {
    provider = "console"
    config {
      outputFormat = "{{ env \\"FORMAT\\" | lower | default \\"simple\\" }}"
    }
  }
}

task "remote" {
  input {
    provider_ref = "ghcr.io/acme/in:{{ env \\"TAG\\" }}"
    config {
      pw = "{{ env \\"PW\\" | required \\"set PW\\" }}"
    }
  }
  output {
    provider = "{{ env \\"OUT\\" }}"
  }
}
`;
