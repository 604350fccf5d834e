package io.ferryhub.common.files;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The start-up check of a state directory (the hub's data directory, a gateway's): it must belong to the user
 * running the process, and nothing in it may be open to group or others. Files from before owner-only creation
 * ({@link OwnerOnlyFiles}), or copied in by hand, are tightened in place, with one log line per fix, so an upgrade
 * needs no manual step.
 */
public final class OwnerOnlyTree {
    private static final Logger log = LoggerFactory.getLogger(OwnerOnlyTree.class);
    private static final Set<PosixFilePermission> OWNER_BITS = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);

    private OwnerOnlyTree() {
    }

    /** Why a directory is not used: it belongs to someone else, or something in it cannot be tightened. */
    public static final class NotOwnedException extends IOException {
        public NotOwnedException(String message) {
            super(message);
        }
    }

    /**
     * Checks {@code root} (which must exist) and everything under it, symbolic links not followed, and removes every
     * group and other permission bit.
     *
     * @param what how the log and errors name the directory, e.g. "data directory"
     * @return how many entries were tightened
     * @throws NotOwnedException when {@code root} is not owned by the user running this process, or an entry could
     *                           not be tightened (owned by another user)
     */
    public static int secure(Path root, String what) throws IOException {
        if (!OwnerOnlyFiles.isPosix(root)) {
            return 0;
        }
        Path dir = root.toRealPath();
        int self = currentUid();
        int owner = (Integer) Files.getAttribute(dir, "unix:uid");
        if (self >= 0 && owner != self) {
            throw new NotOwnedException("the " + what + " " + dir + " belongs to " + Files.getOwner(dir).getName()
                    + " (uid " + owner + "), not to uid " + self + " who runs this process: it holds keys, so "
                    + "run as its owner or give it to this user (chown -R)");
        }
        int[] fixed = {0};
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                fixed[0] += tighten(dir, d, what);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (!attrs.isSymbolicLink()) { // a link's own mode means nothing; its target is not ours to change
                    fixed[0] += tighten(dir, file, what);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return fixed[0];
    }

    private static int tighten(Path root, Path entry, String what) throws IOException {
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(entry, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> ownerOnly = EnumSet.noneOf(PosixFilePermission.class);
        ownerOnly.addAll(now);
        ownerOnly.retainAll(OWNER_BITS);
        if (ownerOnly.equals(now)) {
            return 0;
        }
        try {
            Files.setPosixFilePermissions(entry, ownerOnly);
        } catch (FileSystemException e) {
            throw new NotOwnedException("cannot make " + entry + " (owned by " + Files.getOwner(entry,
                    LinkOption.NOFOLLOW_LINKS).getName() + ") readable by its owner only: " + e.getMessage()
                    + "; give the " + what + " to the user running this process (chown -R)");
        }
        Path name = root.equals(entry) ? entry : root.relativize(entry);
        log.warn("{}: {} was {}, open to other local users; now {}", what, root.equals(entry) ? entry
                : root + "/" + name, PosixFilePermissions.toString(now), PosixFilePermissions.toString(ownerOnly));
        return 1;
    }

    /** The effective uid, or -1 where the platform does not tell. */
    private static int currentUid() {
        try {
            return (int) new com.sun.security.auth.module.UnixSystem().getUid();
        } catch (LinkageError | RuntimeException notUnix) {
            return -1;
        }
    }
}
