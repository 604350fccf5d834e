package io.ferryhub.common.sas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConnectionStringTest {
    private static final String KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    @Test
    void aModuleStringIsParsedWithItsFieldsAndResource() {
        ConnectionString cs = ConnectionString.parse(" HostName=hub.example;DeviceId=d1;ModuleId=m1;"
                + "SharedAccessKey=" + KEY + "; ");
        assertTrue(cs.isDevice());
        assertEquals("hub.example", cs.hostName());
        assertEquals(Optional.of("m1"), cs.moduleId());
        assertEquals("hub.example/devices/d1/modules/m1", cs.resourceUri());
        assertEquals("HostName=hub.example;DeviceId=d1;ModuleId=m1;SharedAccessKey=***", cs.redacted());
        SasToken token = SasToken.parse(cs.sasToken(Instant.parse("2100-01-01T00:00:00Z")));
        assertEquals("hub.example/devices/d1/modules/m1", token.resource());
        assertTrue(token.keyName().isEmpty(), "device tokens name no policy");
    }

    @Test
    void aPolicyStringSignsForThePolicyAndX509AndPremadeTokensAreKept() {
        ConnectionString policy = ConnectionString.parse("HostName=h;SharedAccessKeyName=service;SharedAccessKey="
                + KEY);
        assertFalse(policy.isDevice());
        assertEquals(Optional.of("service"),
                SasToken.parse(policy.sasToken(Instant.parse("2100-01-01T00:00:00Z"))).keyName());
        ConnectionString x509 = ConnectionString.parse("HostName=h;DeviceId=d;x509=TRUE");
        assertTrue(x509.isX509());
        assertThrows(IllegalStateException.class, () -> x509.sasToken(Instant.now()));
        ConnectionString premade = ConnectionString.parse("HostName=h;DeviceId=d;SharedAccessSignature=sig");
        assertEquals("sig", premade.sasToken(Instant.now()));
        assertEquals(ConnectionString.forDevice("h", "d", null, KEY).toString(),
                "HostName=h;DeviceId=d;SharedAccessKey=" + KEY);
    }

    @Test
    void malformedStringsNameTheirProblem() {
        for (String bad : new String[] {null, "", "  ", "HostName", "=x", "HostName=h;Foo=1",
                "HostName=h;HostName=i;DeviceId=d;SharedAccessKey=k", "DeviceId=d;SharedAccessKey=k",
                "HostName=;DeviceId=d;SharedAccessKey=k", "HostName=h;DeviceId=d",
                "HostName=h;DeviceId=d;SharedAccessKey=k;x509=true", "HostName=h;SharedAccessKey=k",
                "HostName=h;ModuleId=m;SharedAccessKeyName=p;SharedAccessKey=k"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ConnectionString.parse(bad), String.valueOf(bad));
            assertFalse(e.getMessage().contains("SharedAccessKey=k"), "secrets stay out of messages");
        }
    }
}
