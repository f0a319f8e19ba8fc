from anpr.cli import main

main()
