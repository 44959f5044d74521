from harness_connector.cli import main

main()
