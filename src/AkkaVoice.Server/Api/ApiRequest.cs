using System.Text.Json;
using AkkaVoice.Protocol;

namespace AkkaVoice.Server.Api;

/// <summary>An answer of the server API that is an error: <c>{"error": {"code", "message"}}</c> with its status (PROTOCOL section 9).</summary>
public sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    public static ApiException BadField(string message) => new(400, ErrorCodes.BadField, message);
    public static ApiException OutOfRange(string message) => new(422, ErrorCodes.OutOfRange, message);
    public static ApiException NotFound(string message) => new(404, ErrorCodes.NotFound, message);

    /// <summary>A room's refusal, by its code.</summary>
    public static ApiException Of(string code, string message) => code switch
    {
        ErrorCodes.Conflict => new(409, code, message),
        ErrorCodes.OutOfRange => new(422, code, message),
        ErrorCodes.NotFound => new(404, code, message),
        _ => new(400, code, message),
    };

    public IResult ToResult() => Results.Json(new { error = new { code = Code, message = Message } }, statusCode: Status);
}

/// <summary>
/// A request body of the server API, read and checked before anything is asked of a room: at most 64 KiB (413
/// <c>too-large</c>), JSON (400 <c>bad-json</c>), an object whose fields have the right types (400 <c>bad-field</c>).
/// Fields it does not know are ignored. An empty body reads as <c>{}</c>.
/// </summary>
public sealed class ApiRequest
{
    public const int MaxBodyBytes = 64 * 1024;

    private readonly JsonElement body;

    private ApiRequest(JsonElement body) => this.body = body;

    public static async Task<ApiRequest> ReadAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes) throw TooLarge();
        var buffer = new byte[MaxBodyBytes + 1];
        int length = 0;
        while (length < buffer.Length)
        {
            int n = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted);
            if (n == 0) break;
            length += n;
        }
        if (length > MaxBodyBytes) throw TooLarge();
        if (buffer.AsSpan(0, length).Trim(" \t\r\n"u8).IsEmpty) return new ApiRequest(JsonDocument.Parse("{}").RootElement);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ApiException(400, ErrorCodes.BadJson, $"the body is not JSON: {e.Message}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw ApiException.BadField("the body must be a JSON object");
        return new ApiRequest(root);
    }

    private static ApiException TooLarge() => new(413, "too-large", $"the body is over {MaxBodyBytes / 1024} KiB");

    private bool Has(string name, out JsonElement value) => body.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Undefined;

    /// <summary>Whether the field is present (null included).</summary>
    public bool Present(string name) => body.TryGetProperty(name, out _);

    /// <summary>A string field; null when absent or null (or an error when <paramref name="required"/>).</summary>
    public string? String(string name, bool required = false)
    {
        if (!Has(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return required ? throw ApiException.BadField($"{name} is required") : null;
        if (v.ValueKind != JsonValueKind.String) throw ApiException.BadField($"{name} must be a string");
        try
        {
            return v.GetString();
        }
        catch (InvalidOperationException)
        {
            throw ApiException.BadField($"{name} holds a lone surrogate");
        }
    }

    /// <summary>A text field of 1-4096 characters (longer: 422).</summary>
    public string Text(string name)
    {
        var text = String(name, required: true)!;
        if (text.Length == 0) throw ApiException.BadField($"{name} must not be empty");
        if (text.Length > ClientMessages.MaxTextLength) throw ApiException.OutOfRange($"{name} is over {ClientMessages.MaxTextLength} characters");
        return text;
    }

    /// <summary>A user or room id field.</summary>
    public string? Id(string name, bool required = false)
    {
        var id = String(name, required);
        if (id is not null && !Protocol.Ids.IsValid(id)) throw ApiException.BadField($"{name} must be 1-{Protocol.Ids.MaxLength} characters of A-Z a-z 0-9 _ . - :");
        return id;
    }

    public int? Int(string name, bool required = false)
    {
        if (!Has(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return required ? throw ApiException.BadField($"{name} is required") : null;
        if (v.ValueKind != JsonValueKind.Number) throw ApiException.BadField($"{name} must be a whole number");
        if (!v.TryGetInt64(out var n))
        {
            // 1e20 is a whole number, just far too large; 1.5 is not one.
            return v.TryGetDouble(out var d) && double.IsFinite(d) && Math.Floor(d) == d
                ? throw ApiException.OutOfRange($"{name} is out of range")
                : throw ApiException.BadField($"{name} must be a whole number");
        }
        if (n is < int.MinValue or > int.MaxValue) throw ApiException.OutOfRange($"{name} is out of range");
        return (int)n;
    }

    public bool? Bool(string name, bool required = false)
    {
        if (!Has(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return required ? throw ApiException.BadField($"{name} is required") : null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.BadField($"{name} must be true or false"),
        };
    }

    /// <summary>An array of user ids, or null when absent.</summary>
    public string[]? Ids(string name)
    {
        if (!Has(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array) throw ApiException.BadField($"{name} must be an array of user ids");
        var ids = new List<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { } id || !Protocol.Ids.IsValid(id))
                throw ApiException.BadField($"{name} must be an array of user ids");
            ids.Add(id);
        }
        return [.. ids];
    }

    /// <summary>A paging limit from the query string: absent gives <paramref name="fallback"/>; not a number 400; outside 1-<paramref name="max"/> 422.</summary>
    public static int Limit(HttpRequest request, int fallback, int max)
    {
        var text = request.Query["limit"].ToString();
        if (text.Length == 0) return fallback;
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, null, out var n)) throw ApiException.BadField("limit must be a whole number");
        if (n < 1 || n > max) throw ApiException.OutOfRange($"limit must be 1-{max}");
        return (int)n;
    }

    /// <summary>A room or user id from the path (already URL-decoded), checked.</summary>
    public static string PathId(string id, string what) => Protocol.Ids.IsValid(id)
        ? id
        : throw ApiException.BadField($"{what} must be 1-{Protocol.Ids.MaxLength} characters of A-Z a-z 0-9 _ . - : (URL-encoded)");
}
