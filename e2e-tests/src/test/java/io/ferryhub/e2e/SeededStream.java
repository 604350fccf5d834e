package io.ferryhub.e2e;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A long pseudo-random byte stream that tests push through a path and check at the far end by SHA-256, without
 * holding it in memory: the same seed and size always give the same bytes.
 */
final class SeededStream {
    private static final int CHUNK = 64 * 1024;

    private SeededStream() {
    }

    /** Writes {@code size} bytes of the stream with this seed. */
    static void write(Socket s, long size, long seed) {
        try {
            Random random = new Random(seed);
            byte[] chunk = new byte[CHUNK];
            OutputStream out = s.getOutputStream();
            for (long sent = 0; sent < size; sent += chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(chunk.length, size - sent));
            }
            out.flush();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** Reads exactly {@code size} bytes and returns their SHA-256; {@code progress} counts what has arrived. */
    static byte[] readDigest(Socket s, long size, AtomicLong progress) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[CHUNK];
            InputStream in = s.getInputStream();
            long total = 0;
            while (total < size) {
                int n = in.read(buf);
                if (n < 0) {
                    throw new IllegalStateException("closed after " + total + " of " + size + " bytes");
                }
                sha.update(buf, 0, n);
                total += n;
                progress.set(total);
            }
            return sha.digest();
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** The SHA-256 of the first {@code size} bytes of the stream with this seed. */
    static byte[] digestOf(long size, long seed) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        Random random = new Random(seed);
        byte[] chunk = new byte[CHUNK];
        for (long sent = 0; sent < size; sent += chunk.length) {
            random.nextBytes(chunk);
            sha.update(chunk, 0, (int) Math.min(chunk.length, size - sent));
        }
        return sha.digest();
    }
}
