import stillcam


def test_all_is_sorted_and_complete():
    assert stillcam.__all__ == sorted(stillcam.__all__)
    for name in stillcam.__all__:
        assert hasattr(stillcam, name), name
    public = {n for n in dir(stillcam) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(stillcam.__all__)
