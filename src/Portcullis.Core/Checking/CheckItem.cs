namespace Portcullis.Core.Checking;

public enum CheckStatus { Pass, Info, Warn, Fail }

/// <summary>One finding of <c>check DOMAIN</c>: what was checked, the outcome, and how to fix it.</summary>
public sealed record CheckItem(string Area, string Title, CheckStatus Status, string Detail, string? Fix = null);
