from .cli import main

if __name__ == "__main__":  # not when a spawned process (the batch pool's) imports it as __mp_main__
    main()
