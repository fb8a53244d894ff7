"""The online side of the Electrum interop test, run with Debian's python3-electrum (Electrum's own code).

  electrum_side.py create DATADIR ADDRESS FUNDING_TX_HEX DESTINATION AMOUNT_SAT FEE_SAT
      restores an imported-address (watch-only) regtest wallet for ADDRESS, adds the funding transaction
      and prints the unsigned PSBT (base64) Electrum makes paying AMOUNT_SAT to DESTINATION.
  electrum_side.py finalize DATADIR UNSIGNED_PSBT SIGNED_PSBT
      loads the wallet, combines the signed PSBT into the unsigned one, finalizes, and prints a JSON object
      {"complete": bool, "tx": hex or null}.
  electrum_side.py qr PSBT
      prints the text Electrum puts in its QR code for PSBT (base43; segwit inputs keep only witness_utxo).
"""
import json
import sys

from electrum import constants
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.transaction import PartialTxOutput, Transaction, tx_from_any
from electrum.wallet import Wallet, restore_wallet_from_text
from electrum.util import create_and_start_event_loop
from electrum.wallet_db import WalletDB


def open_config(datadir):
    constants.set_regtest()
    return SimpleConfig({"electrum_path": datadir, "regtest": True, "auto_connect": False, "oneserver": True})


def create(datadir, address, funding_hex, destination, amount, fee):
    config = open_config(datadir)
    wallet = restore_wallet_from_text(address, path=datadir + "/wallet", config=config, encrypt_file=False)["wallet"]
    wallet.adb.add_transaction(Transaction(funding_hex))
    coins = wallet.get_spendable_coins(None)
    outputs = [PartialTxOutput.from_address_and_value(destination, int(amount))]
    tx = wallet.make_unsigned_transaction(coins=coins, outputs=outputs, fee=int(fee))
    tx.add_info_from_wallet(wallet)
    wallet.save_db()
    print(tx.serialize())


def finalize(datadir, unsigned, signed):
    config = open_config(datadir)
    storage = WalletStorage(datadir + "/wallet")
    wallet = Wallet(WalletDB(storage.read(), manual_upgrades=False), storage, config=config)
    tx = tx_from_any(unsigned)
    tx.add_info_from_wallet(wallet)
    tx.combine_with_other_psbt(tx_from_any(signed))
    tx.add_info_from_wallet(wallet)
    tx.finalize_psbt()
    complete = tx.is_complete()
    print(json.dumps({"complete": complete, "tx": tx.serialize() if complete else None}))


def qr(psbt):
    print(tx_from_any(psbt).to_qr_data())


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    # Electrum's wallet code reports progress through its event loop, even offline.
    loop, stopping, thread = create_and_start_event_loop()
    try:
        {"create": create, "finalize": finalize, "qr": qr}[command](*args)
    finally:
        loop.call_soon_threadsafe(stopping.set_result, 1)
        thread.join(timeout=10)
