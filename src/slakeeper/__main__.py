from slakeeper.cli.main import run

run()
