package io.ferryhub.common.sas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PercentEncodingTest {
    @Test
    void unreservedCharactersStayAndEverythingElseIsEncodedAsUtf8() {
        assertEquals("aZ09-._~", PercentEncoding.encode("aZ09-._~"));
        assertEquals("a%20b%2Fc%24%25%C3%A9%F0%9F%98%80", PercentEncoding.encode("a b/c$%é😀"));
        assertEquals("hub.example%2fdevices%2fd1", PercentEncoding.encodeLowerHex("hub.example/devices/d1"));
    }

    @Test
    void decodeReversesEncodeAndKeepsUnescapedNonAscii() {
        String text = "d1/m 1?x=é&😀";
        assertEquals(text, PercentEncoding.decode(PercentEncoding.encode(text)));
        assertEquals("é😀x", PercentEncoding.decode("é😀%78"));
        String plain = "nothing-to-do";
        assertSame(plain, PercentEncoding.decode(plain));
    }

    @Test
    void plusIsASpaceOnlyWhenAsked() {
        assertEquals("a+b", PercentEncoding.decode("a+b"));
        assertEquals("a b c", PercentEncoding.decode("a+b%20c", true));
        assertEquals("a+b", PercentEncoding.decode("a%2Bb", true));
    }

    @Test
    void malformedEscapesAreIllegalArguments() {
        for (String bad : new String[] {"%", "%4", "a%", "%zz", "%g0", "abc%2"}) {
            assertThrows(IllegalArgumentException.class, () -> PercentEncoding.decode(bad), bad);
        }
    }
}
