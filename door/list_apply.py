"""Taking up an access-list snapshot from its payload, in batches or in a child process.

A 100,000-card snapshot is 15 MB of JSON; decoding it builds some 100 MB of
Python objects (freed memory the process then keeps) and its JSON parse
holds the interpreter for tens of milliseconds at a time. So a large
snapshot is applied by a short-lived child process (``python -m
door.list_apply``) writing to the same SQLite file: the door's own threads
keep deciding taps meanwhile, and the memory the decode took leaves with the
child. Small snapshots are applied in the calling thread. Either way the
apply is one transaction, so a bad entry anywhere leaves the list as it was.
"""

import itertools
import json
import subprocess
import sys
from pathlib import Path

from door.replica import Replica, ReplicaError, WrongDoor
from hublink.errors import MessageError
from hublink.messages import ACL_SNAPSHOT, AclEntry, validate_batches

CHILD_TIMEOUT_S = 600.0
REFUSED = 3
"""The child's exit status when the snapshot itself is bad (not the machine)."""


def apply_payload(replica: Replica, payload: bytes) -> bool:
    """Decode ``payload`` and apply it, validating entries in batches; True if it changed."""
    snapshot, raw = ACL_SNAPSHOT.decode_in_parts(payload, "entries")
    entries = itertools.chain.from_iterable(
        validate_batches(ACL_SNAPSHOT.name, "entries", AclEntry, raw)
    )
    return replica.apply_snapshot(snapshot, entries)


def apply_in_child(replica: Replica, payload: bytes, timeout: float = CHILD_TIMEOUT_S) -> bool:
    """Apply ``payload`` from a child process, then take up the result; True if it changed.

    Raises :class:`MessageError` for a bad snapshot and :class:`ReplicaError`
    when the child could not do its work.
    """
    command = [sys.executable, "-m", "door.list_apply", str(replica.path), replica.door_id]
    try:
        done = subprocess.run(  # noqa: S603  (our own interpreter and module)
            command, input=payload, capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ReplicaError(f"applying the access list in a child process failed: {err}") from err
    why = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode == REFUSED:
        raise MessageError(why[-1] if why else "snapshot refused")
    if done.returncode != 0:
        detail = why[-1] if why else f"exit status {done.returncode}"
        raise ReplicaError(f"applying the access list in a child process failed: {detail}")
    replica.reload()
    return bool(json.loads(done.stdout)["applied"])


def main(argv: list[str] | None = None) -> int:
    """The child: read a snapshot payload on stdin, apply it, print the outcome."""
    path, door_id = argv or sys.argv[1:]
    payload = sys.stdin.buffer.read()
    try:
        with Replica(Path(path), door_id) as replica:
            changed = apply_payload(replica, payload)
    except (MessageError, ReplicaError) as err:
        print(err, file=sys.stderr)
        return REFUSED if isinstance(err, MessageError | WrongDoor) else 1
    print(json.dumps({"applied": changed}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
