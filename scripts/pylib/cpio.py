"""Minimal newc cpio writer for initramfs images (no root, no staging directory needed)."""

import gzip
import io
import os
import stat


class Cpio:
    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1000
        self.seen = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        name = name.lstrip("/")
        self.ino += 1
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join(
            "%08X" % v
            for v in (self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        )
        self.buf.write(hdr.encode() + nb)
        self.buf.write(b"\0" * (-(110 + len(nb)) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * (-len(data) % 4))

    def dir(self, path, mode=0o755):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in self.seen:
                self.seen.add(p)
                self._entry(p, stat.S_IFDIR | mode, nlink=2)

    def file(self, path, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        parent = os.path.dirname(path.strip("/"))
        if parent:
            self.dir(parent)
        self._entry(path, stat.S_IFREG | mode, data)

    def host_file(self, path, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        if mode is None:
            mode = os.stat(src).st_mode & 0o7777
        self.file(path, data, mode)

    def symlink(self, path, target):
        parent = os.path.dirname(path.strip("/"))
        if parent:
            self.dir(parent)
        self._entry(path, stat.S_IFLNK | 0o777, target.encode())

    def host_tree(self, dest, src):
        """Copies a file or a directory tree from the host under `dest`."""
        if os.path.isdir(src):
            self.dir(dest)
            for root, dirs, files in os.walk(src):
                rel = os.path.relpath(root, src)
                base = dest if rel == "." else os.path.join(dest, rel)
                for d in sorted(dirs):
                    self.dir(os.path.join(base, d))
                for f in sorted(files):
                    p = os.path.join(root, f)
                    if os.path.islink(p):
                        self.symlink(os.path.join(base, f), os.readlink(p))
                    else:
                        self.host_file(os.path.join(base, f), p)
        else:
            self.host_file(os.path.join(dest, os.path.basename(src)), src)

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.buf.write(b"\0" * (-self.buf.tell() % 512))
        return self.buf.getvalue()

    def finish_gz(self):
        """The archive gzip-compressed, zero-padded to 512 bytes so that another archive can
        be appended (the kernel looks for it at an aligned offset and skips zeros)."""
        data = gzip.compress(self.finish(), compresslevel=6)
        return data + b"\0" * (-len(data) % 512)
