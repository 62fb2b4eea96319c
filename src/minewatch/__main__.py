from minewatch.cli.app import main

main()
