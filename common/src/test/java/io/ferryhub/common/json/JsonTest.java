package io.ferryhub.common.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesObjectsFromBytesAndText() {
        assertEquals(1, Json.parse("{\"a\":1}".getBytes(StandardCharsets.UTF_8)).get("a").asInt());
        assertEquals("é", Json.parse("{\"a\":\"\\u00e9\"}").get("a").asText());
    }

    @Test
    void malformedJsonIsAnIllegalArgument() {
        for (String bad : new String[] {"{", "{\"a\":}", "[1,", "nul", "{a:1}"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Json.parse(bad.getBytes(StandardCharsets.UTF_8)), bad);
            assertTrue(e.getMessage().startsWith("malformed JSON"), e.getMessage());
        }
    }

    @Test
    void bytesThatCannotBeDecodedAreMalformedJsonNotAnIoFailure() {
        // found by the HTTPS fuzzer: 00 00 00 xx makes Jackson read UTF-32, and an invalid code point was an
        // UncheckedIOException, which the REST router answered with 500
        byte[] utf32Garbage = {0, 0, 0, (byte) 0xff, 'e', 'r', 'y', '"', ':', '1', '}'};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(utf32Garbage));
        assertTrue(e.getMessage().startsWith("malformed JSON"), e.getMessage());
    }
}
