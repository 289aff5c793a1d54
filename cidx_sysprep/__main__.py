import sys

from cidx_sysprep.cli import main

sys.exit(main())
