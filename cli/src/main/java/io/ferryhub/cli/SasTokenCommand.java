package io.ferryhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ferryhub.common.json.Json;
import io.ferryhub.common.sas.ConnectionString;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code iothub generate-sas-token}: a device's or module's SAS token, signed with its primary key (read through the
 * REST API), for generic MQTT clients such as {@code mosquitto_pub} that take the token as their password.
 */
final class SasTokenCommand {
    static final String USAGE = "iothub generate-sas-token --device ID [--module M] [--duration SECONDS]";
    private static final Set<String> VALUED = Set.of("device", "module", "duration");

    private SasTokenCommand() {
    }

    static void run(List<String> argv, Output out) {
        Set<String> valued = new HashSet<>(HubApi.OPTIONS);
        valued.addAll(VALUED);
        Args args = Args.parse(argv, valued, Set.of("json"));
        args.expectPositionals(0);
        String device = args.option("device");
        if (device == null) {
            throw CliException.usage("--device is required");
        }
        String module = args.option("module");
        int duration = args.intOption("duration", 3600);
        if (duration <= 0) {
            throw CliException.usage("--duration must be a positive number of seconds");
        }
        try (HubApi api = HubApi.connect(args)) {
            String path = "/devices/" + HubApi.segment(device)
                    + (module == null ? "" : "/modules/" + HubApi.segment(module));
            JsonNode identity = api.get(path);
            String key = identity.at("/authentication/symmetricKey/primaryKey").asText("");
            if (key.isEmpty()) {
                throw new CliException((module == null ? "device " + device : "module " + module)
                        + " authenticates with X.509 certificates, not SAS tokens");
            }
            String token = ConnectionString.forDevice(api.hostName(), device, module, key)
                    .sasToken(Instant.now().plusSeconds(duration));
            if (out.isJson()) {
                out.json(Json.object().put("sas", token));
            } else {
                out.line(token);
            }
        }
    }
}
