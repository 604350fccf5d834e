package io.ferryhub.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamTokenKeyFileTest {
    @TempDir
    Path dir;

    @Test
    void aMissingFileGetsARandomKeyReadableByItsOwnerOnly() throws IOException {
        Path file = dir.resolve("stream-token.key");
        byte[] key = StreamTokenKeyFile.loadOrCreate(file);
        assertEquals(32, key.length);
        assertArrayEquals(key, StreamTokenKeyFile.loadOrCreate(file), "the second start reads the same key");
        assertArrayEquals(key, StreamTokenKeyFile.load(file));
        if (!System.getProperty("os.name").startsWith("Windows")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
        assertTrue(Files.readString(file).endsWith("\n"));
    }

    @Test
    void missingNonBase64AndShortKeysAreIoErrorsNamingTheProblem() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> StreamTokenKeyFile.load(dir.resolve("none")));
        assertTrue(missing.getMessage().contains("not readable"));
        Path notBase64 = Files.writeString(dir.resolve("a"), "not base64 !");
        assertTrue(assertThrows(IOException.class, () -> StreamTokenKeyFile.load(notBase64)).getMessage()
                .contains("not base64"));
        Path shortKey = Files.writeString(dir.resolve("b"), Base64.getEncoder().encodeToString(new byte[15]));
        assertTrue(assertThrows(IOException.class, () -> StreamTokenKeyFile.load(shortKey)).getMessage()
                .contains("shorter than 16"));
        Path padded = Files.writeString(dir.resolve("c"), "  " + Base64.getEncoder().encodeToString(new byte[16])
                + "\n\n");
        assertEquals(16, StreamTokenKeyFile.load(padded).length);
    }
}
