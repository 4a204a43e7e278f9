"""The mailbox: the eHealthBox use cases, with no web framework inside.

Between the eHealthBox client (`ehealth/ehealthbox/`) and the entry points (the pages,
`/api/v1`, the M2M CLI, the acceptance run), the way authlib's `base_client` decides and its
Flask integration only reads the request:

- `rules`: every limit, pattern and name a message must respect, defined once;
- `problems`: what is wrong with an input, as a stable code, the field and the values
  (never a sentence: each entry point words it);
- `outgoing`: the one input model of a message to send, and of move/delete/list arguments;
- `names`: file names and MIME types made safe, on the way out and on the way in;
- `failures`: each eHealthBox, I.AM Connect and encryption failure to its code, HTTP status,
  problem type and translatable message;
- `shape`: the one JSON shape of the models (`/api/v1` and every `--json` of the CLI);
- `actions`: send (sealed or plain), open a message or a part (sealed or not), move and
  delete in batches.

The package imports nothing from `web/` or `cli/`; submodules are imported by name so that
the sandbox can use `rules` without loading the client.
"""
