package io.ferryhub.hub.service.query;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

/** Query errors as IoT Hub answers them: 400 with the position in the query text. */
final class QuerySyntax {
    private QuerySyntax() {
    }

    static HubException error(int position, String message) {
        return new HubException(HubErrorCode.ArgumentInvalid, "Syntax error at position " + position + ": "
                + message);
    }

    static HubException invalid(String message) {
        return new HubException(HubErrorCode.ArgumentInvalid, "Invalid query: " + message);
    }
}
