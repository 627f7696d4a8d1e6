from ztmcp.cli.main import main

main()
