"""Use case 2.2.3, machine to machine: an organisation's own eHealthBox, without a user.

Framework-neutral (no Flask, no click), so that a worker or a script can use it as the
`flask --app app ehbox m2m ...` commands do:

- `client_id`: the organisation's M2M client id, checked against the procedure's rules.
- `tokens`: client-credentials tokens (private_key_jwt), exchanged for the eHealthBox
  audience when one is configured, cached in memory and, on POSIX, in a 0600 file.
- `files`: a message on disk: safe file names, JSON metadata, atomic folder writes.
- `send`: recipients and messages built from command-line values; the resend command.
- `render`: one-line and JSON views of boxes, listings and messages.
- `poll`: the poller that fetches new messages into a folder, resumable, with its state.
"""
