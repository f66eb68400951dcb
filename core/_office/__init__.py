"""Office files: safe XML, sensitivity labels, package inspection."""
