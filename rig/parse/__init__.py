"""Line-stream parsers for Xen's and Linux's console output and rig's own /init (pure).

``rig.parse.collect.parse_lines`` (any lines) and ``rig.parse.scan.parse_file`` (a file, faster)
are the entry points that ``rig parse`` and ``rig run`` share.
"""
