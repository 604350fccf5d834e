package io.ferryhub.hub.storage;

import io.ferryhub.common.files.OwnerOnlyFiles;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Crash-safe replacement of small files, for stores that rewrite a whole file per change; owner-only files. */
public final class DurableFiles {
    private DurableFiles() {
    }

    /**
     * Replaces {@code file} with {@code content}: written to a sibling, fsynced, renamed over the old file, and the
     * rename made durable, so a crash leaves either the old content or the new one, never a mix.
     */
    public static void replace(Path file, byte[] content) throws IOException {
        OwnerOnlyFiles.createDirectories(file.getParent());
        Path next = file.resolveSibling(file.getFileName() + ".next");
        OwnerOnlyFiles.write(next, content);
        try (FileChannel channel = FileChannel.open(next, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING);
        }
        syncDirectory(file.getParent());
    }

    /** Deletes a file and makes the deletion durable. */
    public static void delete(Path file) throws IOException {
        if (Files.deleteIfExists(file)) {
            syncDirectory(file.getParent());
        }
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException notSupportedOnThisFileSystem) {
            // some file systems refuse to open a directory; the rename is then as durable as they make it
        }
    }
}
