package io.ferryhub.gateway;

import io.ferryhub.common.files.OwnerOnlyFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The key stream tokens are signed with, as a file of base64 text: the hub creates it in its data directory, and a
 * stand-alone gateway is given a copy, so that it verifies the hub's tokens without calling the hub.
 */
public final class StreamTokenKeyFile {
    private static final int KEY_BYTES = 32;
    private static final int MIN_KEY_BYTES = 16;

    private StreamTokenKeyFile() {
    }

    /** Reads the key; a missing, unreadable or too short file is an {@link IOException} naming the problem. */
    public static byte[] load(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            throw new IOException("stream token key file not readable: " + file);
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(Files.readString(file, StandardCharsets.US_ASCII).trim());
        } catch (IllegalArgumentException e) {
            throw new IOException("stream token key file is not base64: " + file);
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new IOException("stream token key in " + file + " is shorter than " + MIN_KEY_BYTES + " bytes");
        }
        return key;
    }

    /** Reads the key, creating a random one (readable by the owner only) when the file does not exist yet. */
    public static byte[] loadOrCreate(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] key = new byte[KEY_BYTES];
            new SecureRandom().nextBytes(key);
            ByteBuffer text = ByteBuffer.wrap((Base64.getEncoder().encodeToString(key) + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
            try (FileChannel out = OwnerOnlyFiles.open(file, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                while (text.hasRemaining()) {
                    out.write(text);
                }
                out.force(true);
            } catch (FileAlreadyExistsException raced) {
                return load(file);
            }
            return key;
        }
        return load(file);
    }
}
