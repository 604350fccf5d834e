package io.ferryhub.common.files;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates the files and directories of a hub's or gateway's state readable by their owner only: directories
 * {@code rwx------}, files {@code rw-------}. The permissions are given to the system call that creates each one, so
 * there is no moment at which another local user can open it, and the process umask can only take bits away from
 * them, never add group or other bits. Every writer of the data directory creates through here.
 *
 * <p>On a file system without POSIX permissions (Windows) the files are created with its defaults.
 */
public final class OwnerOnlyFiles {
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private OwnerOnlyFiles() {
    }

    /** Like {@link Files#createDirectories}: every directory it creates is owner-only. */
    public static Path createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return dir; // also when an ancestor is read-only to us, as createDirectories would fail on it
        }
        return isPosix(dir) ? Files.createDirectories(dir, attribute(DIRECTORY)) : Files.createDirectories(dir);
    }

    /**
     * Opens a file like {@link FileChannel#open(Path, OpenOption...)}; when {@code options} create it, it is created
     * owner-only. An existing file keeps its permissions (the start-up check tightens those).
     */
    public static FileChannel open(Path file, OpenOption... options) throws IOException {
        Set<OpenOption> set = Set.of(options);
        if (isPosix(file) && (set.contains(StandardOpenOption.CREATE) || set.contains(StandardOpenOption.CREATE_NEW))) {
            return FileChannel.open(file, set, attribute(FILE));
        }
        return FileChannel.open(file, set);
    }

    /** A new or truncated owner-only file, for writing. */
    public static OutputStream newOutputStream(Path file) throws IOException {
        return Channels.newOutputStream(open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE));
    }

    /** Writes {@code content} to a new or truncated owner-only file (not durably: see the callers for fsync). */
    public static void write(Path file, byte[] content) throws IOException {
        try (OutputStream out = newOutputStream(file)) {
            out.write(content);
        }
    }

    static boolean isPosix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> permissions) {
        return PosixFilePermissions.asFileAttribute(permissions);
    }
}
