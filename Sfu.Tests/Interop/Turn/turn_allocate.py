"""Allocates a relay on a TURN server with given credentials (aioice, from Debian's python3-aioice) and prints one
JSON line: {"relayed": [host, port]} when the server accepted them, {"error": "..."} when it did not."""
import asyncio
import json
import sys

import aioice.turn


async def main(host, port, username, password, transport):
    try:
        relay, _ = await asyncio.wait_for(
            aioice.turn.create_turn_endpoint(asyncio.DatagramProtocol, server_addr=(host, int(port)),
                                             username=username, password=password, transport=transport),
            timeout=10)
    except Exception as error:  # the test reads the refusal from the message
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
        return
    print(json.dumps({"relayed": list(relay.get_extra_info("sockname"))}), flush=True)
    relay.close()


asyncio.run(main(*sys.argv[1:6]))
