package io.ferryhub.compat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * The hub's iothubowner connection string, and hub-scoped SAS tokens made from it as the service SDKs make them
 * (written out here, not taken from the hub's code, so that the tests check the hub against the SDKs' recipe).
 */
record OwnerCredentials(String hostName, String keyName, String key) {
    static OwnerCredentials parse(String connectionString) {
        Map<String, String> parts = new HashMap<>();
        for (String part : connectionString.split(";")) {
            int eq = part.indexOf('=');
            parts.put(part.substring(0, eq), part.substring(eq + 1));
        }
        return new OwnerCredentials(parts.get("HostName"), parts.get("SharedAccessKeyName"),
                parts.get("SharedAccessKey"));
    }

    /** A token for the whole hub, valid for an hour. */
    String sasToken() throws GeneralSecurityException {
        String resource = URLEncoder.encode(hostName, StandardCharsets.UTF_8);
        String expiry = Long.toString(Instant.now().plusSeconds(3600).getEpochSecond());
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(Base64.getDecoder().decode(key), "HmacSHA256"));
        String signature = Base64.getEncoder().encodeToString(
                mac.doFinal((resource + "\n" + expiry).getBytes(StandardCharsets.UTF_8)));
        return "SharedAccessSignature sr=" + resource + "&sig=" + URLEncoder.encode(signature, StandardCharsets.UTF_8)
                + "&se=" + expiry + "&skn=" + keyName;
    }
}
