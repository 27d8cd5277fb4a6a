"""docs/faults.md stays true: every fault of the matrix is in its table, the counts match."""

from __future__ import annotations

import re
from pathlib import Path

from tests.faults import test_bad_config, test_bad_input, test_corrupt_store, test_tls
from tests.faults.hostile import MARKUP, SEQUENCES
from tests.faults.matrix import FAULTS, WIRES

DOC = Path(__file__).resolve().parents[2] / "docs" / "faults.md"


def test_every_fault_is_a_row_of_the_table() -> None:
    rows = re.findall(r"^\| `([^`]+)` \|", DOC.read_text(), flags=re.MULTILINE)
    assert rows == [fault.id for fault in FAULTS]


def test_the_counts_are_the_tests() -> None:
    text = DOC.read_text()
    cells = len(FAULTS) * len(WIRES)
    assert f"**{len(FAULTS)} faults × {len(WIRES)} providers = {cells} cells**" in text
    assert f"**{2 * cells} cell tests**" in text
    assert f"**{len(SEQUENCES) + len(MARKUP)}** ({len(SEQUENCES)} escape" in text
    # Config: the cases, the unreadable file, a missing key per provider, the TLS switches.
    config = len(test_bad_config.CASES) + 1 + len(WIRES) + 3
    assert len(test_tls.test_no_setting_turns_verification_off.pytestmark[0].args[1]) == 3
    store = len(test_corrupt_store.CASES) + 2
    # Prompts: the pastes, a blank box, bytes from a terminal; ask's inputs, 1 MB, empties.
    prompts = len(test_bad_input.PASTES) + 2 + len(test_bad_input.ASK_INPUTS) + 1 + 5
    flags = len(test_bad_input.BAD_FLAGS) + 5
    total = config + store + prompts + flags
    assert (
        f"**{total}** ({config} config, {store} database files, {prompts} prompts, "
        f"{flags} command lines)" in text
    )
