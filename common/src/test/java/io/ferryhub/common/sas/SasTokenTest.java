package io.ferryhub.common.sas;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SasTokenTest {
    private static final String KEY = Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef"
            .getBytes(StandardCharsets.US_ASCII));
    private static final byte[] KEY_BYTES = Base64.getDecoder().decode(KEY);

    @Test
    void createdTokenVerifiesAndExposesItsFields() {
        String token = SasToken.create("myhub.example.com/devices/dev 1", KEY, null, Instant.ofEpochSecond(2_000_000_000L));
        assertTrue(token.startsWith("SharedAccessSignature sr=myhub.example.com%2Fdevices%2Fdev%201&sig="));
        SasToken parsed = SasToken.parse(token);
        assertTrue(parsed.isSignedWith(KEY_BYTES));
        assertEquals("myhub.example.com/devices/dev 1", parsed.resource());
        assertEquals(2_000_000_000L, parsed.expiry().getEpochSecond());
        assertTrue(parsed.keyName().isEmpty());
    }

    @Test
    void javaDeviceStyleTokenWithRawResourceAndOtherFieldOrderVerifies() {
        // The Java device SDK signs the resource unencoded and orders the fields sig, se, sr.
        String sr = "myhub.example.com/devices/dev1";
        String sig = SasToken.sign(KEY_BYTES, sr, "2000000000");
        String token = "SharedAccessSignature sig=" + PercentEncoding.encode(sig) + "&se=2000000000&sr=" + sr;
        assertTrue(SasToken.parse(token).isSignedWith(KEY_BYTES));
    }

    @Test
    void tamperedWrongKeyAndExpiredTokensAreTold() {
        String token = SasToken.create("myhub.example.com", KEY, "iothubowner", Instant.ofEpochSecond(2_000_000_000L));
        SasToken parsed = SasToken.parse(token);
        assertEquals("iothubowner", parsed.keyName().orElseThrow());
        assertFalse(SasToken.parse(token.replace("se=2000000000", "se=2000000001")).isSignedWith(KEY_BYTES));
        assertFalse(parsed.isSignedWith("another key of 32 bytes .......".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(parsed.isExpiredAt(Instant.ofEpochSecond(2_000_000_000L)));
        assertFalse(parsed.isExpiredAt(Instant.ofEpochSecond(1_999_999_999L)));
    }

    @Test
    void malformedTokensAreRejectedWithAReason() {
        assertThrows(IllegalArgumentException.class, () -> SasToken.parse("Bearer abc"));
        assertThrows(IllegalArgumentException.class, () -> SasToken.parse("SharedAccessSignature sr=a&se=1"));
        assertThrows(IllegalArgumentException.class, () -> SasToken.parse("SharedAccessSignature sr=a&sig=b&se=x"));
        assertThrows(IllegalArgumentException.class, () -> SasToken.parse("SharedAccessSignature sr=a&sr=b&sig=c&se=1"));
    }

    @Test
    void connectionStringsRoundTripAndMakeTokens() {
        ConnectionString cs = ConnectionString.parse("HostName=hub.example.com;DeviceId=d1;SharedAccessKey=" + KEY);
        assertTrue(cs.isDevice());
        assertEquals("hub.example.com/devices/d1", cs.resourceUri());
        assertTrue(SasToken.parse(cs.sasToken(Instant.now().plusSeconds(60))).isSignedWith(KEY_BYTES));
        assertEquals("HostName=hub.example.com;DeviceId=d1;SharedAccessKey=***", cs.redacted());
        assertThrows(IllegalArgumentException.class, () -> ConnectionString.parse("HostName=h;DeviceId=d"));
        assertThrows(IllegalArgumentException.class, () -> ConnectionString.parse("HostName=h;Foo=1;SharedAccessKey=k"));
    }
}
